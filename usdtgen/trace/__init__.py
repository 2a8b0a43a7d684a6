"""The tracer: targets and processes, attaching uprobes, decoding, output."""
