# Copyright (c) mmpanet contributors. All rights reserved.
"""A trained detector's checkpoint cut to another dataset's classes, to
start from it (the paper's Table 8: Cityscapes from a COCO-trained PANet).

Each new class takes the class-specific weights of the old class it maps
to: the box classifier's row (mmdet keeps background last), its 4 box
regression rows and its mask logit channel. Everything else is kept as it
is. ``COCO_TO_CITYSCAPES`` is Detectron's mapping (``rider`` starts from
``person``; the other 7 Cityscapes classes have a COCO class of the same
name).
"""
from collections import OrderedDict
from typing import Dict, Sequence

import torch

COCO_TO_CITYSCAPES = {'rider': 'person'}
# (key suffix, what the rows are): the class-specific tensors of mmdet's
# box and mask heads
CLASS_ROWS = {
    'bbox_head.fc_cls': 'scores (classes + background last)',
    'bbox_head.fc_reg': 'box deltas (4 per class)',
    'mask_head.conv_logits': 'mask logits (1 per class)',
}


def select_classes(state_dict: Dict[str, torch.Tensor],
                   old_classes: Sequence[str],
                   new_classes: Sequence[str],
                   mapping: Dict[str, str] = None) -> OrderedDict:
    """``state_dict`` with its class-specific rows chosen for
    ``new_classes``: new class ``c`` takes old class ``mapping.get(c, c)``.
    """
    mapping = mapping or {}
    missing = [c for c in new_classes if mapping.get(c, c) not in old_classes]
    if missing:
        raise KeyError(f'{missing} map to no old class; give them one in '
                       f'the mapping (old classes: {list(old_classes)})')
    rows = torch.tensor(
        [list(old_classes).index(mapping.get(c, c)) for c in new_classes])
    num_old = len(old_classes)
    out, found = OrderedDict(), set()
    for key, value in state_dict.items():
        head = next(
            (h for h in CLASS_ROWS if key.rsplit('.', 1)[0].endswith(h)), None)
        if head is None:
            out[key] = value
            continue
        found.add(head)
        if head.endswith('fc_cls'):
            index = torch.cat([rows, torch.tensor([num_old])])  # background
            expected = num_old + 1
        elif head.endswith('fc_reg'):
            index = (rows[:, None] * 4 + torch.arange(4)).flatten()
            expected = num_old * 4
        else:
            index, expected = rows, num_old
        if value.shape[0] != expected:
            raise ValueError(
                f'{key} has {value.shape[0]} rows, not the {expected} of '
                f'{num_old} classes ({CLASS_ROWS[head]}); a class-agnostic '
                'head or another number of classes?')
        out[key] = value[index].clone()
    if not found:
        raise KeyError('no class-specific box or mask head weights '
                       f'(keys ending in {sorted(CLASS_ROWS)})')
    return out
