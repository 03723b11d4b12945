"""Read a file, whatever the container really is, in a child process under stated limits."""
