"""The files of a run folder, each named once: every module that writes or reads one, in the library,
the studies and the tests, takes its name from here (or reads it through `FinishedRun`)."""

REQUEST = "request.json"  # what the user asked for, beside the run it made
SETTINGS = "settings.json"  # the training settings as resolved, and what else shaped the model
HISTORY = "metrics.jsonl"  # one line per evaluation: losses, dev and held-out figures, kept or not
REPORT = "report.json"  # written last: the run finished
REPORT_MARKDOWN = "report.md"
REPORT_PLOT = "report.png"
GENERAL_REPORT = "general_report.json"  # a general distillation's report, written last
CHECKPOINT = "checkpoint"  # the folder a stopped run resumes from
CHECKPOINT_STATE = "trainer_state.json"  # in CHECKPOINT: step, epoch, best metric, seconds trained
EXPORT_RECORD = "export.json"  # in an exported folder: its source, parity and dev figures
