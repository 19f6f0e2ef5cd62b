"""Task distillation (work in progress): losses, layer maps and students so far."""
from . import layer_maps, losses
from .students import alternate_layers, copy_teacher_layers, lowest_layers, parse_shape, student_config

__all__ = ["layer_maps", "losses", "alternate_layers", "copy_teacher_layers", "lowest_layers", "parse_shape",
           "student_config"]
