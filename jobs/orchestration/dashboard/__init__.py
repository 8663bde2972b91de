"""`omnilake dashboard`: the business's dashboard as ONE self-contained HTML file (plotly.js inlined once).

reads.py   the thin I/O layer: bounded delta-rs reads (partition filters on as-of / business-date windows)
metrics.py pure frame -> frame: KPIs against the previous period, GMV = visitors x conversion x AOV, ...
figures.py pure frame -> plotly figure, one per section
page.py    sections -> the HTML page; build.py ties them together; browser.py opens a page in headless chromium
"""
