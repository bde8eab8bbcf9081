platforms = []
