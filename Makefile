# Translation catalogs (pybabel). The bot compiles the .po files itself at start,
# so `make compile` is only a check; `make messages` is what a developer runs after
# changing user-facing strings.
PYBABEL ?= pybabel
# The Python that has babel: the one next to PYBABEL when it is given as a path (.venv/bin).
PYTHON ?= $(if $(findstring /,$(PYBABEL)),$(dir $(PYBABEL))python,python3)
DOMAIN = uabot
LANGS = de fr en

.PHONY: messages variants typography compile
messages:
	$(PYBABEL) extract -F babel.cfg -k N_ --no-location --sort-output \
		--project=uabot --copyright-holder="uabot contributors" -o locales/$(DOMAIN).pot .
	for lang in $(LANGS); do \
		if [ -f locales/$$lang/LC_MESSAGES/$(DOMAIN).po ]; then \
			$(PYBABEL) update -D $(DOMAIN) -i locales/$(DOMAIN).pot -d locales -l $$lang \
				--no-fuzzy-matching --ignore-obsolete; \
		else \
			$(PYBABEL) init -D $(DOMAIN) -i locales/$(DOMAIN).pot -d locales -l $$lang; \
		fi; \
	done
	$(MAKE) variants PYTHON=$(PYTHON)
	$(MAKE) typography PYTHON=$(PYTHON)

# The mechanical variants (de_CH: ss, «…») made from their base catalogs: tools/variants.py.
variants:
	$(PYTHON) tools/variants.py

# French spacing, apostrophes and guillemet spaces (docs/translation-style.md), applied to the
# French catalogs after each update; tests/test_typography.py checks every catalog.
typography:
	$(PYTHON) tools/typography.py --fix

compile:
	$(PYBABEL) compile -D $(DOMAIN) -d locales --statistics
