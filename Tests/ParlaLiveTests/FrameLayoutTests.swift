import XCTest
@testable import ParlaIO
