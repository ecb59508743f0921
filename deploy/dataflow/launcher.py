"""Dataflow flex-template entry point: the template launcher runs this file with the job's parameters as flags."""
import sys

from pipelines.articles import main

sys.exit(main())
