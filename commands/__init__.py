"""The command line's commands, one module per group: `augment_command` (augment), `train_commands`
(finetune, distill), `ship_commands` (evaluate, export, predict). Each parses its flags (made from
the library's settings declarations), calls one library function and prints what it returns;
`common` turns known errors into a message and exit status 2."""
