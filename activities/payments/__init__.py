"""Payment activities: payroll and campaign compilation, the paying bank, and the one writer of
``payment_instruction`` rows (``instructions``)."""
