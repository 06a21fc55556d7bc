// PageTemplates.swift -- the pages' Mustache templates and style sheet, compiled into the binary.

import Mustache

/// The pages, as Mustache templates. `{{name}}` escapes for HTML; the templates never use
/// the unescaped forms (`{{{name}}}`, `{{&name}}`) except for `svg`, markup this program
/// drew itself from numbers (``SVGChart``). No script anywhere; the style sheet is
/// `/style.css`, so the content security policy can forbid everything inline.
enum PageTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in templates {
            try library.register(text, named: name)
        }
        return library
    }

    static let templates: [(String, String)] = [
        ("header", header), ("footer", footer), ("index", index), ("lookup", lookup), ("delist", delist),
        ("delisted", delisted), ("error", error), ("stats", stats), ("admin", admin), ("admin-done", adminDone),
    ]

    static let header = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{site.name}}</title>
        <link rel="stylesheet" href="/style.css">
        </head>
        <body>
        <header><a class="site" href="/">{{site.name}}</a>
        <nav><a href="/">Look up</a> <a href="/delist">Delist</a> <a href="/stats">Statistics</a></nav></header>
        <main>

        """

    static let footer = """
        </main>
        <footer>{{site.name}} lists mail servers that send backscatter.{{#site.contact}} Contact: {{site.contact}}.{{/site.contact}}
        Delisting is free.</footer>
        </body>
        </html>

        """

    static let index = """
        {{> header}}
        <h1>Is your mail server listed?</h1>
        <form class="search" method="get" action="/lookup">
        <label for="ip">IPv4 or IPv6 address</label>
        <input id="ip" name="ip" value="{{client}}" maxlength="64" required autocomplete="off" spellcheck="false">
        <button type="submit">Look up</button>
        </form>
        <p class="hint">Your address, as this site sees it, is {{client}}.</p>
        <h2>What this list is</h2>
        <p>{{site.name}} lists mail servers that send <em>backscatter</em>: bounces, auto-replies,
        challenge-response requests and virus notices sent to the forged sender of spam. Spam traps,
        addresses that never send mail, receive that backscatter; each such message is a hit
        against the server that delivered it. A listing ends by itself when the hits stop, and
        you can remove it yourself at once: fix the server (reject during the SMTP session
        instead of bouncing afterwards), then ask for delisting.</p>
        <h2>Zones and return codes</h2>
        <ul>{{#zones}}<li><code>{{.}}</code></li>{{/zones}}</ul>
        <table>
        <thead><tr><th>A answer</th><th>means</th></tr></thead>
        <tbody>
        <tr><td><code>127.0.0.2</code></td><td>bounces (every listing has this bit)</td></tr>
        <tr><td>+ 4</td><td>auto-replies</td></tr>
        <tr><td>+ 8</td><td>challenge-response requests</td></tr>
        <tr><td>+ 16</td><td>virus or content-filter notices</td></tr>
        <tr><td>+ 32</td><td>listed by an operator</td></tr>
        </tbody>
        </table>
        <p>The TXT record says why. <code>127.0.0.2</code> is always listed and <code>127.0.0.1</code>
        never is (RFC 5782 test points).</p>
        <h2>How to use it</h2>
        {{#zone}}
        <h3>Postfix</h3>
        <pre>smtpd_recipient_restrictions =
            permit_mynetworks, reject_unauth_destination,
            reject_rbl_client {{.}}=127.0.0.[2..127]</pre>
        <h3>Exim</h3>
        <pre>deny dnslists = {{.}}
             message = $sender_host_address is listed in $dnslist_domain: $dnslist_text</pre>
        <h3>rspamd</h3>
        <pre>rbl {
          rbls {
            rbld { rbl = "{{.}}"; ipv6 = true; received = false; }
          }
        }</pre>
        <h3>SpamAssassin</h3>
        <pre>header   RCVD_IN_RBLD eval:check_rbl('rbld', '{{.}}.')
        describe RCVD_IN_RBLD Sender sends backscatter
        score    RCVD_IN_RBLD 2.0</pre>
        <p>Backscatter lists are best used to score or to reject bounces (null sender), not all mail.</p>
        {{/zone}}
        {{> footer}}
        """

    static let lookup = """
        {{> header}}
        <h1>{{ip}}</h1>
        {{#zones}}
        <section class="zone {{status}}">
        <h2>{{zone}}: {{#listed}}listed{{/listed}}{{^listed}}{{statusText}}{{/listed}}</h2>
        {{#listed}}
        <dl>
        <dt>Answer</dt><dd><code>{{code}}</code>: {{meaning}}</dd>
        <dt>TXT</dt><dd>{{txt}}</dd>
        <dt>Expires by itself</dt><dd>{{#expires}}{{.}}{{/expires}}{{^expires}}never{{/expires}}</dd>
        </dl>
        {{/listed}}
        {{#hasHits}}
        <dl>
        <dt>Hits</dt><dd>{{hits}}</dd>
        <dt>First seen</dt><dd>{{firstSeen}}</dd>
        <dt>Last seen</dt><dd>{{lastSeen}}</dd>
        <dt>Kinds</dt><dd>{{kindsText}}</dd>
        </dl>
        {{/hasHits}}
        {{#delistable}}
        <form method="get" action="/delist"><input type="hidden" name="ip" value="{{ip}}"><input type="hidden" name="zone" value="{{zone}}">
        <button type="submit">Request delisting from {{zone}}</button></form>
        <p class="hint">The listing is removed at once. Fix the server first: a newer hit lists it again.</p>
        {{/delistable}}
        {{#manual}}<p class="note">An operator listed this address; self-service cannot remove it.
        <a href="/delist?ip={{ip}}&amp;zone={{zone}}">Ask an operator to review it</a>.</p>{{/manual}}
        {{#explanation}}<p class="note">{{.}}</p>{{/explanation}}
        {{#hasEvidence}}
        <h3>Evidence</h3>
        <p class="hint">The latest messages the traps received from {{ip}}. Trap addresses, trap host names and the traps' own Received hops are removed.</p>
        {{#evidence}}
        <article class="evidence">
        <p><strong>{{time}}</strong> · {{kind}} · {{strength}} evidence{{#host}} · sent by {{.}}{{/host}}</p>
        <pre>{{#lines}}{{.}}
        {{/lines}}</pre>
        </article>
        {{/evidence}}
        {{/hasEvidence}}
        </section>
        {{/zones}}
        <p><a href="/">Look up another address</a> · <a href="/api/v1/lookup/{{ip}}">JSON</a></p>
        {{> footer}}
        """

    static let delist = """
        {{> header}}
        <h1>Request delisting</h1>
        <p>A listing made from trap hits is removed at once and comes back only if the traps
        receive backscatter from the address again. Listings made by an operator, and
        addresses that asked too often, are reviewed by an operator. Every request is recorded
        with your address ({{client}}).</p>
        {{#problem}}<p class="error">{{.}}</p>{{/problem}}
        <form method="post" action="/delist">
        <input type="hidden" name="token" value="{{token}}">
        <label for="ip">IP address</label>
        <input id="ip" name="ip" value="{{ip}}" maxlength="64" required autocomplete="off" spellcheck="false">
        <label for="zone">Zone</label>
        <select id="zone" name="zone">{{#zoneOptions}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/zoneOptions}}</select>
        <label for="email">Your e-mail address</label>
        <input id="email" name="email" type="email" value="{{email}}" maxlength="254" required>
        <label for="reason">What did you fix?</label>
        <textarea id="reason" name="reason" maxlength="2000" rows="4" required>{{reason}}</textarea>
        <button type="submit">Request delisting</button>
        </form>
        {{> footer}}
        """

    static let delisted = """
        {{> header}}
        <h1>{{heading}}</h1>
        <p class="{{status}}" id="outcome">{{note}}</p>
        <dl>
        <dt>Request</dt><dd>{{id}}</dd>
        <dt>Address</dt><dd>{{ip}}</dd>
        <dt>Zone</dt><dd>{{zone}}</dd>
        <dt>Status</dt><dd>{{status}}</dd>
        </dl>
        <p><a href="/lookup/{{ip}}">Look up {{ip}} again</a></p>
        {{> footer}}
        """

    static let error = """
        {{> header}}
        <h1>{{heading}}</h1>
        <p class="error">{{message}}</p>
        <p><a href="/">Back to the search</a></p>
        {{> footer}}
        """

    static let stats = """
        {{> header}}
        <h1>Statistics</h1>
        {{#zones}}
        <section>
        <h2>{{zone}}</h2>
        <p>{{listed}} addresses listed now; {{hits24h}} hits in the last 24 hours, {{hits7d}} in the last 7 days.</p>
        <h3>Hits per day by kind, last {{days}} days</h3>
        <figure>{{{hitsChart}}}</figure>
        <h3>Listed sources, last {{days}} days</h3>
        <figure>{{{listedChart}}}</figure>
        </section>
        {{/zones}}
        <h2>DNS queries per second</h2>
        <figure>{{{qpsChart}}}</figure>
        <p class="hint">Since this process started, sampled every {{sampleSeconds}} seconds.</p>
        {{> footer}}
        """

    static let admin = """
        {{> header}}
        <h1>Administration</h1>
        <p>Signed in as {{user}}. Every action is written to the audit trail under web:{{user}}.</p>
        {{#zones}}
        <section>
        <h2>{{zone}}</h2>
        <h3>Delisting requests waiting for review</h3>
        {{^pending}}<p>None.</p>{{/pending}}
        {{#pending}}
        <article class="evidence">
        <p><strong>#{{id}}</strong> {{time}} · <a href="/lookup/{{address}}">{{address}}</a> · from {{client}} · {{email}}</p>
        <p>{{reason}}</p><p class="hint">{{note}}</p>
        <form method="post" action="/admin/request"><input type="hidden" name="token" value="{{token}}">
        <input type="hidden" name="zone" value="{{zone}}"><input type="hidden" name="id" value="{{id}}">
        <input name="reason" placeholder="why" maxlength="500" required>
        <button name="decision" value="approve">Delist</button> <button name="decision" value="deny">Keep listed</button></form>
        </article>
        {{/pending}}
        <h3>Held back for corroboration</h3>
        {{^heldBack}}<p>None.</p>{{/heldBack}}
        <table>{{#heldBack}}<tr><td><a href="/lookup/{{address}}">{{address}}</a></td><td>{{weakHits}} weak hits from {{traps}} traps</td><td>until {{heldUntil}}</td></tr>{{/heldBack}}</table>
        <h3>List, delist, exclude</h3>
        <form method="post" action="/admin/act"><input type="hidden" name="token" value="{{token}}">
        <input type="hidden" name="zone" value="{{zone}}">
        <label for="prefix-{{zone}}">Address or network</label><input id="prefix-{{zone}}" name="prefix" maxlength="64" required>
        <label for="reason-{{zone}}">Reason</label><input id="reason-{{zone}}" name="reason" maxlength="500" required>
        <button name="action" value="list">List</button> <button name="action" value="delist">Delist</button>
        <button name="action" value="exclude">Exclude</button> <button name="action" value="unexclude">Unexclude</button>
        <button name="action" value="confirm">Confirm weak evidence</button> <button name="action" value="reject">Reject weak evidence</button>
        </form>
        <h3>Recent requests</h3>
        <table>{{#recent}}<tr><td>#{{id}}</td><td>{{time}}</td><td>{{address}}</td><td>{{status}}</td><td>{{client}}</td></tr>{{/recent}}</table>
        </section>
        {{/zones}}
        {{> footer}}
        """

    static let adminDone = """
        {{> header}}
        <h1>{{heading}}</h1>
        <p id="outcome">{{message}}</p>
        <p><a href="/admin">Back to administration</a></p>
        {{> footer}}
        """

    static let styleSheet = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fafafa;line-height:1.45}
        header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;padding:.6em 1em;background:#223;color:#fff}
        header a{color:#fff;text-decoration:none;margin-right:1em}.site{font-weight:bold;font-size:1.2em}
        main{max-width:52em;margin:0 auto;padding:1em}footer{max-width:52em;margin:2em auto;padding:0 1em;color:#555;font-size:.9em}
        form.search{display:flex;flex-wrap:wrap;gap:.5em;align-items:center}label{display:block;margin-top:.6em;font-weight:600}
        form.search label{width:100%}input,select,textarea{font:inherit;padding:.4em;max-width:100%;box-sizing:border-box}
        input,textarea{width:28em}button{font:inherit;padding:.4em 1em;margin-top:.6em;cursor:pointer}
        pre{background:#eee;padding:.6em;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
        table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
        section.zone{border-left:6px solid #999;padding-left:1em;margin:1.5em 0}section.listed{border-color:#b22}
        section.not-listed,section.delisted,section.excluded{border-color:#2a2}
        dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
        .hint{color:#555;font-size:.9em}.note{background:#fff4d6;padding:.5em}.error{background:#fde;padding:.5em}
        .delisted,.approved{background:#dfd;padding:.5em}.pending{background:#fff4d6;padding:.5em}.refused,.denied{background:#fde;padding:.5em}
        article.evidence{border-top:1px solid #ddd;margin-top:.8em}figure{margin:0;overflow-x:auto}svg{max-width:100%;height:auto}
        @media (max-width:40em){input,textarea{width:100%}dl{grid-template-columns:auto}}

        """
}
