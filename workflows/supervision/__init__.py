"""Supervision (监督): the county's monthly spot checks of decisions and complaints."""
