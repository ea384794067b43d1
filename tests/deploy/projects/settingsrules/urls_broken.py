raise RuntimeError("this URLconf is broken on purpose")
