// SVGChart.swift -- bar and line charts drawn as SVG on the server: no script, no fonts, works offline.

/// A chart drawn from numbers alone; labels are escaped, so the markup may be included in a
/// page unescaped.
enum SVGChart {
    struct Series {
        var name: String
        /// An SVG colour (`#rrggbb`).
        var color: String
        var values: [Double]
    }

    static let width = 640.0
    static let height = 220.0
    static let left = 48.0
    static let bottom = 28.0
    static let top = 12.0

    /// Stacked bars, one per label, a colour per series, with a legend.
    static func stackedBars(labels: [String], series: [Series], title: String) -> String {
        let totals = labels.indices.map { index in series.reduce(0) { $0 + ($1.values.indices.contains(index) ? $1.values[index] : 0) } }
        let maximum = niceMaximum(totals.max() ?? 0)
        var svg = open(title: title)
        svg += axes(maximum: maximum)
        let slot = (width - left - 8) / Double(max(labels.count, 1))
        for index in labels.indices {
            var y = height - bottom
            let x = left + Double(index) * slot + slot * 0.1
            for line in series {
                let value = line.values.indices.contains(index) ? line.values[index] : 0
                guard value > 0 else { continue }
                let h = value / maximum * (height - bottom - top)
                y -= h
                svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(slot * 0.8))\" height=\"\(fmt(h))\" fill=\"\(line.color)\">"
                    + "<title>\(escape(labels[index])): \(Int(value)) \(escape(line.name))</title></rect>"
            }
        }
        svg += xLabels(labels, slot: slot)
        svg += legend(series)
        return svg + "</svg>"
    }

    /// One line through the values, with a point each.
    static func line(labels: [String], values: [Double], color: String, title: String, unit: String) -> String {
        let maximum = niceMaximum(values.max() ?? 0)
        var svg = open(title: title)
        svg += axes(maximum: maximum)
        let slot = (width - left - 8) / Double(max(values.count, 1))
        var points: [String] = []
        for (index, value) in values.enumerated() {
            let x = left + Double(index) * slot + slot / 2
            let y = height - bottom - value / maximum * (height - bottom - top)
            points.append("\(fmt(x)),\(fmt(y))")
        }
        if !points.isEmpty {
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
        }
        if values.count <= 60 {
            for (index, point) in points.enumerated() {
                let xy = point.split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"><title>\(escape(labels[index])): "
                    + "\(fmt(values[index])) \(escape(unit))</title></circle>"
            }
        }
        svg += xLabels(labels, slot: slot)
        return svg + "</svg>"
    }

    private static func open(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height + 24))\" role=\"img\" "
            + "aria-label=\"\(escape(title))\" font-family=\"sans-serif\" font-size=\"11\"><title>\(escape(title))</title>"
    }

    private static func axes(maximum: Double) -> String {
        var svg = ""
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let y = height - bottom - Double(step) / 4 * (height - bottom - top)
            svg += "<line x1=\"\(fmt(left))\" x2=\"\(fmt(width - 8))\" y1=\"\(fmt(y))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" fill=\"#444\">\(label(value))</text>"
        }
        return svg
    }

    private static func xLabels(_ labels: [String], slot: Double) -> String {
        guard !labels.isEmpty else { return "" }
        let every = max(1, labels.count / 8)
        var svg = ""
        for index in labels.indices where index % every == 0 || index == labels.count - 1 {
            let x = left + Double(index) * slot + slot / 2
            svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(height - bottom + 16))\" text-anchor=\"middle\" fill=\"#444\">\(escape(labels[index]))</text>"
        }
        return svg
    }

    private static func legend(_ series: [Series]) -> String {
        var svg = ""
        var x = left
        for line in series {
            svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(height + 6))\" width=\"10\" height=\"10\" fill=\"\(line.color)\"/>"
            svg += "<text x=\"\(fmt(x + 14))\" y=\"\(fmt(height + 15))\" fill=\"#222\">\(escape(line.name))</text>"
            x += 18 + Double(line.name.count) * 7
        }
        return svg
    }

    /// 1, 2, 5 times a power of ten, at least `value` (and at least 1).
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 1 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func label(_ value: Double) -> String {
        value >= 1_000_000 ? "\(fmt(value / 1_000_000))M" : value >= 1000 ? "\(fmt(value / 1000))k" : fmt(value)
    }

    /// At most one decimal, none when whole.
    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded))" : "\(rounded)"
    }

    static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "&": output += "&amp;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
        return output
    }
}
