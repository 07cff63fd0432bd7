"""Micro-LLM specialists: serve any Hugging Face model over MCP, and train tiny task models from scratch."""
