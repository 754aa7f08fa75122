"""The statutory paths of a temporary-assistance case, one module each: ``registration`` (policy
in force, link to a pending application), ``emergency`` (急难型: 先行救助 → 事后补充说明 → 县级
审核 → 追回), ``special`` (一事一议 with staged aid) and ``normal`` (支出型: the application
workflow as a child). Each step takes the case's ``TemporaryCase`` and runs under its lock."""
