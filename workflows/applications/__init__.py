"""Applications: 低保, 特困, 低保边缘/刚性支出 recognition and the normal procedure of temporary
assistance, from intake to the follow-on case (``workflow.py``; steps in ``steps/``)."""
