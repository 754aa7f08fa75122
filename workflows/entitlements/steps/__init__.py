"""The entitlement's statutory steps, one module each: ``changes`` (变更: reported changes and
data flags, investigations, deaths, work refusals, the card account), ``review`` (定期核查 and
household reviews, the county's decision), ``termination`` (渐退, 停发, 特困终止 with
publicity, the end)."""
