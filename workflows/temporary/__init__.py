"""Temporary assistance (临时救助, DOMAIN §6): one ``TemporaryCaseWorkflow`` per case.

``contract`` is what the API, the worker and the activities import; ``workflow`` holds the
workflow class; ``procedures/`` the statutory paths (``emergency`` 先行救助 → 事后补充说明 →
县级审核 → 追回, ``special`` 一事一议 with staged aid, ``normal`` the application as a child);
``checks`` the pure step checks; ``rules`` the pure amount rules. Nothing is imported here, so
importing the contract does not load the workflow."""
