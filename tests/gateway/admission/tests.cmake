# (populated by issue 5 work)
