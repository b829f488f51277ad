"""Model families beyond the binary dense associative memory (docs/softmax.md, modern.md)."""
