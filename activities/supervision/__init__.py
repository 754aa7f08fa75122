"""Activities of supervision: the spot-check population and draw, re-opening a reversed case,
and the complaint register."""
