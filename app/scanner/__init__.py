"""The live cookie scanner: the site opened in Chromium in every consent state, compared with the cookie register."""
