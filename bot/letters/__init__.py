"""Letters: the draft a supporter fills in and the .docx made from it."""
