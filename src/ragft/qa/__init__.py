"""qa: questions and answers a corpus already holds — FAQ pages (`faq.py`: RST, Markdown, the Debian FAQ's plain
text) and Q/A JSONL — read as neutral `QAPair`s (`pairs.py`) that eval sets and fine-tuning facts are made from."""
