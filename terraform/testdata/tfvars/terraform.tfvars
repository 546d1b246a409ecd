multi = true
