"""The Clean stage: the page text of an article cut down to its title, body, byline and date line.

``rules.clean_page`` is the whole cleaner as one pure function (the standard library and
numpy only); ``stage.CleanText`` applies it in Beam.
"""
