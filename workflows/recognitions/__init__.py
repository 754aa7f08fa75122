"""低保边缘 / 刚性支出困难 recognitions: the yearly review from the recognition date."""
