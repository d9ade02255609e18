// swift-tools-version: 6.0
// Parla: one portrait and speech in, a talking face out. Targets follow the layers in docs/DESIGN.md;
// a lower layer never imports a higher one.
import PackageDescription

let package = Package(
    name: "Parla",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "parla", targets: ["parla"]),
        .library(name: "ParlaRuntime", targets: ["ParlaRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // HTTP + WebSocket server for `parla serve` (tools 6.0, no dependencies; Hummingbird/NIO need Swift 6.1+).
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // System shims: C wrappers around libjpeg-turbo and libpng (error handling needs setjmp).
        .target(
            name: "CImageCodecs",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16")]
        ),
        // The int8 GEMM tile with aarch64 sdot (dotprod), selected at run time; portable C elsewhere.
        .target(name: "CParlaDot"),
        // Tensor & kernels: fp32/int8 tensors and SIMD kernels with scalar references. No system calls.
        .target(name: "ParlaKernels", dependencies: ["CParlaDot"]),
        // Model file format (versioned, checksummed) and the graph executor.
        .target(name: "ParlaModel", dependencies: ["ParlaKernels"]),
        // WAV/PCM, resampling, audio features; image decode/encode, resize.
        .target(name: "ParlaMedia", dependencies: ["ParlaKernels", "CImageCodecs"]),
        // Face detector, mesh, iris, avatar builder and avatar file.
        .target(
            name: "ParlaFace",
            dependencies: ["ParlaModel", "ParlaMedia"],
            resources: [.copy("Models")]
        ),
        // Audio → motion: MotionFrame, drivers, composer.
        .target(name: "ParlaMotion", dependencies: ["ParlaMedia", "ParlaModel", "ParlaKernels"], resources: [.copy("Visemes/espeak-visemes.tsv"), .copy("Visemes/Models")]),
        // FrameDecoder protocol and the CPU reference decoder.
        .target(name: "ParlaRender", dependencies: ["ParlaFace", "ParlaMotion"]),
        // System shim: EGL, GBM and OpenGL ES 3.2 headers (Mesa). Used by ParlaRenderGLES and ParlaIO (GBM scan-out).
        .systemLibrary(name: "CEGL", pkgConfig: "egl", providers: [.apt(["libegl-dev", "libgles-dev", "libgbm-dev"])]),
        // The frame decoder on GLES 3.1 compute shaders (Shaders/), matched by the CPU reference.
        .target(name: "ParlaRenderGLES", dependencies: ["ParlaRender", "CEGL"]),
        // System shims for live output: libdrm (KMS scan-out) and alsa-lib (playback/capture). Only ParlaIO uses them.
        .systemLibrary(name: "CDRM", pkgConfig: "libdrm", providers: [.apt(["libdrm-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        // System shim for libespeak-ng (text to speech with phoneme events). Only ParlaVoice uses it.
        .systemLibrary(name: "CEspeak", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),
        // Text → speech + phoneme timing → viseme track (beside motion).
        .target(name: "ParlaVoice", dependencies: ["CEspeak", "ParlaMotion", "ParlaMedia"]),
        // File sinks (MP4 through ffmpeg, Y4M, PNG), later ALSA and DRM/KMS.
        .target(name: "ParlaIO", dependencies: ["ParlaRender", "ParlaMedia", "CDRM", "CALSA", "CEGL"]),
        // Pipeline, clocks, stage timing.
        .target(
            name: "ParlaRuntime",
            dependencies: ["ParlaIO", "ParlaRender", "ParlaMotion", "ParlaFace", "ParlaMedia", "ParlaModel", "ParlaVoice", "ParlaRenderGLES"],
            resources: [.copy("Demo")]
        ),
        // The control API (HTTP + WebSocket) over the runtime's FaceEngine: `parla serve`.
        .target(name: "ParlaServe", dependencies: ["ParlaRuntime", "ParlaVoice", .product(name: "FlyingFox", package: "FlyingFox")]),
        .executableTarget(
            name: "parla",
            dependencies: ["ParlaRuntime", "ParlaRenderGLES", "ParlaServe", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // Test helpers shared by the test targets (fixture paths, synthetic signals, image metrics).
        .target(name: "ParlaTestSupport", dependencies: ["ParlaMedia"], path: "Tests/ParlaTestSupport"),
        // … and the display's (reading the `--hud` text back from pixels; kept apart so the others need no ParlaIO).
        .target(name: "ParlaLiveTestSupport", dependencies: ["ParlaIO"], path: "Tests/ParlaLiveTestSupport"),
        .testTarget(name: "ParlaKernelsTests", dependencies: ["ParlaKernels", "ParlaTestSupport"]),
        .testTarget(name: "ParlaModelTests", dependencies: ["ParlaModel", "ParlaTestSupport"]),
        .testTarget(name: "ParlaMediaTests", dependencies: ["ParlaMedia", "ParlaTestSupport"]),
        .testTarget(name: "ParlaFaceTests", dependencies: ["ParlaFace", "ParlaTestSupport"]),
        .testTarget(name: "ParlaMotionTests", dependencies: ["ParlaMotion", "ParlaModel", "ParlaKernels", "ParlaTestSupport"]),
        .testTarget(name: "ParlaRenderTests", dependencies: ["ParlaRender", "ParlaRenderGLES", "ParlaTestSupport"]),
        .testTarget(name: "ParlaIOTests", dependencies: ["ParlaIO", "ParlaTestSupport"]),
        .testTarget(name: "ParlaRuntimeTests", dependencies: ["ParlaRuntime", "ParlaTestSupport", "ParlaLiveTestSupport"]),
        .testTarget(name: "ParlaVoiceTests", dependencies: ["ParlaVoice", "ParlaRuntime", "ParlaTestSupport"]),
        .testTarget(name: "ParlaServeTests", dependencies: ["ParlaServe", "ParlaRuntime", "ParlaTestSupport"]),
        .testTarget(name: "ParlaLiveTests", dependencies: ["ParlaIO", "ParlaRuntime", "ParlaTestSupport", "ParlaLiveTestSupport"]),
    ]
)
