"""The runner: measure a deployed app with ApacheBench, store every sample, report.

Pure modules (text and numbers in, records out; tested on recorded ab outputs):
`model` (the records), `abcmd` (ab's command line), `abparse` (ab's outputs),
`stats` (confidence intervals and the verdict), `results` (the run folder),
`report` and `plots` (report.md and its PNGs), `original` (the original study's figures).
The Fabric tasks in `tasks.py` drive the hosts on top of them.
"""
