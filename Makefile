# Translation catalogs (pybabel). The bot compiles the .po files itself at start,
# so `make compile` is only a check; `make messages` is what a developer runs after
# changing user-facing strings.
PYBABEL ?= pybabel
DOMAIN = uabot
LANGS = de fr en

.PHONY: messages compile typography
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

compile:
	$(PYBABEL) compile -D $(DOMAIN) -d locales --statistics

# French spacing, apostrophes and guillemets after adding or merging French strings
# (docs/translation-style.md); tests/test_typography.py checks every catalog.
PYTHON ?= python3
typography:
	$(PYTHON) tools/typography.py --fix
	$(PYTHON) tools/typography.py
