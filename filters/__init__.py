"""The subunit2 command-line filters: one module per command, each a thin main()."""
