# The full PANet shapes config (the main job's model, on the 1100-iteration
# SGD schedule) as the paper trained it: on the fixed proposals of the
# separately trained RPN (rpn_r18-w32_fpn_1100i_shapes, written by
# tools/misc/dump_proposals.py) instead of a jointly trained RPN head.
_base_ = [
    './panet_r18-w32_pafpn-relu_1100i_shapes.py',
    '../_base_/fixed_proposals.py'
]

model = _base_.fixed_proposals_model
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='LoadProposals', num_max_proposals=None),
    dict(
        type='ProposalBroadcaster',
        transforms=[
            dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
            dict(type='RandomFlip', prob=0.5)
        ]),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadProposals', num_max_proposals=None),
    dict(
        type='ProposalBroadcaster',
        transforms=[
            dict(type='Resize', scale=_base_.img_scale, keep_ratio=True)
        ]),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        pipeline=train_pipeline,
        proposal_file='proposals/rpn_r18-w32_fpn_1100i_shapes_train.pkl'))
val_dataloader = dict(
    dataset=dict(
        pipeline=test_pipeline,
        proposal_file='proposals/rpn_r18-w32_fpn_1100i_shapes_val.pkl'))
test_dataloader = val_dataloader
