"""Activities of temporary assistance (临时救助, DOMAIN §6): ``reserve_fund`` (the township
reserve fund as a ledger: prepayment debits, recovery credits, replenishment), ``events`` (the
register behind "the same event is not aided twice"), ``cases`` (pending-application link,
county-funded instructions, recovery, prepayment register) and their ``payloads``."""
