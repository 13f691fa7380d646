"""Results people can cite: summaries, tables, sentences, plots, reports and saved fits."""
