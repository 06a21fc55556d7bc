// TablePrinter.swift -- aligned text tables for human output.

/// Prints rows as left-aligned columns under a header, two spaces apart.
func printTable(header: [String], rows: [[String]], indent: String = "") {
    var widths = header.map(\.count)
    for row in rows {
        for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
        var text = indent
        for (index, cell) in cells.enumerated() {
            let last = index == cells.count - 1
            text += last ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
        }
        return text
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// `key: value` lines with the keys padded to one width.
func printFields(_ fields: [(String, String)], indent: String = "") {
    let width = fields.map(\.0.count).max() ?? 0
    for (key, value) in fields {
        print(indent + key + ":" + String(repeating: " ", count: width - key.count + 1) + value)
    }
}
