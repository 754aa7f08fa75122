"""Activities of the applications domain (低保/特困/边缘/刚性支出 and temporary aid's normal
procedure): data verification by source, the relatives registry and the means test, and the
case's notices. Their payload types live beside them; nothing here imports workflow code."""
