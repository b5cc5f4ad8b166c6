import Testing
@testable import Workbook

@Suite struct WorkbookErrorTests {
    @Test func describesItselfByItsMessage() {
        let error = WorkbookError("no such folder: data/")
        #expect(error.description == "no such folder: data/")
    }
}
