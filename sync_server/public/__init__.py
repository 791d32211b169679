"""你说我办: what the office chose to publish about closed matters, for anyone to read.

`index.PublicIndex` keeps the publications and each post's verdict counts in memory, in
step with the triage log; `pages` answers the API and the district 成效 page from it.
Only staff words leave here: a publication's title and what was done, its month, and
the names of its post and sector. Never a citizen's words, receipt, phone or a day.
"""
