"""Security: local accounts, roles, passwords and sessions (``accounts``), the tamper-evident audit
trail (``audit``) and its anchor outside the store (``audit_anchor``), the site's secret key
(``site_key``). May import: settings, errors, records, ``store``. Never the web layer.
"""
