"""Pure rules of Chinese social assistance (社会救助) for Jiuzhu.

Everything in this package is deterministic and free of I/O: no files, network, environment,
database or clock. Every date is a parameter. Workflows import these modules inside the
Temporal sandbox; activities and the API call them too.

Modules:

- ``programmes``  — the five programmes and their Chinese names.
- ``id_number``   — GB 11643 resident identity numbers, masking of names and numbers.
- ``areas``       — administrative division codes (行政区划代码) and the static area registry.
- ``periods``     — statutory periods ("3个工作日", "7日", "6个月").
- ``calendar``    — working days under the State Council holiday schedule (调休).
- ``money``       — money and rate types, rounding, formatting.
- ``disability``  — disability categories/grades and the criteria lists policies use.
- ``policy``      — effective-dated policy per jurisdiction, merged national → local.
- ``household``   — the household model and its validation.
- ``reasons``     — machine reason codes with Chinese text and legal basis.
- ``means_test``  — eligibility and amounts for every programme.
- ``notices``     — the written notices the law requires, as HTML.
"""
