// WebSite+Stats.swift -- /stats and GET /api/v1/stats: hits per day by kind, listed sources, DNS queries per second.

import Hummingbird
import Store

extension WebSite {
    /// Days the charts cover.
    static let statsDayCount = 30

    static let kindColors: [(HitKind, String)] = [
        (.dsn, "#4477aa"), (.unknownBounce, "#66ccee"), (.autoreply, "#228833"), (.challenge, "#ccbb44"), (.virus, "#ee6677"),
    ]

    struct StatsAnswer: Encodable {
        struct Zone: Encodable {
            var zone: String
            var listed: Int
            var hits24h: Int
            var hits7d: Int
            var days: [Day]

            enum CodingKeys: String, CodingKey {
                case zone, listed, days
                case hits24h = "hits_24h", hits7d = "hits_7d"
            }
        }

        struct Day: Encodable {
            var day: String
            var hits: [String: Int]
            var listed: Int
        }

        var zones: [Zone]
        var queries: [WebStatistics.Sample]
        var sampleSeconds: Int64

        enum CodingKeys: String, CodingKey {
            case zones, queries
            case sampleSeconds = "sample_seconds"
        }
    }

    func histories() throws(WebError) -> [ZoneHistory] {
        var histories: [ZoneHistory] = []
        for zone in configuration.zones {
            histories.append(try storeCall { () throws(StoreError) in
                try statistics.history(zone: zone, pool: pool, dayCount: Self.statsDayCount)
            })
        }
        return histories
    }

    func statsAPI() throws -> Response {
        let zones = try histories().map { history in
            StatsAnswer.Zone(zone: history.zone, listed: history.listedNow, hits24h: history.hitsLast24h, hits7d: history.hitsLast7d,
                             days: history.days.map { StatsAnswer.Day(day: String(Store.formatRFC3339($0.start).prefix(10)), hits: $0.hits, listed: $0.listed) })
        }
        return try json(StatsAnswer(zones: zones, queries: statistics.querySamples,
                                    sampleSeconds: statistics.sampleInterval.components.seconds))
    }

    struct StatsPage {
        struct Zone {
            var zone: String
            var listed: Int
            var hits24h: Int
            var hits7d: Int
            var days: Int
            var hitsChart: String
            var listedChart: String
        }

        var site: SiteInfo
        var title: String
        var zones: [Zone]
        var qpsChart: String
        var sampleSeconds: Int64
    }

    func statsPage() throws -> Response {
        let zones = try histories().map { history in
            let labels = history.days.map { String(Store.formatRFC3339($0.start).dropFirst(5).prefix(5)) }
            let series = Self.kindColors.map { kind, color in
                SVGChart.Series(name: kind.rawValue, color: color, values: history.days.map { Double($0.hits[kind.rawValue] ?? 0) })
            }
            return StatsPage.Zone(
                zone: history.zone, listed: history.listedNow, hits24h: history.hitsLast24h, hits7d: history.hitsLast7d,
                days: history.days.count,
                hitsChart: SVGChart.stackedBars(labels: labels, series: series, title: "Hits per day by kind in \(history.zone)"),
                listedChart: SVGChart.line(labels: labels, values: history.days.map { Double($0.listed) }, color: "#aa3377",
                                           title: "Listed sources in \(history.zone)", unit: "sources"))
        }
        let samples = statistics.querySamples
        let qps = SVGChart.line(labels: samples.map { String(Store.formatRFC3339($0.time).dropFirst(11).prefix(5)) },
                                values: samples.map(\.queriesPerSecond), color: "#4477aa", title: "DNS queries per second", unit: "queries/s")
        return try html(StatsPage(site: siteInfo, title: "Statistics", zones: zones, qpsChart: qps,
                                  sampleSeconds: statistics.sampleInterval.components.seconds), template: "stats")
    }
}
