# Full PANet (Table 3 row 9) as the paper trained it: on the fixed proposals
# of the separately trained RPN (rpn_r50_fpn_rbl-80k_coco, written by
# tools/misc/dump_proposals.py) instead of a jointly trained RPN head.
_base_ = [
    './panet_r50_pafpn-relu_rbl-mst-mbn-160k_coco.py',
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
            dict(
                type='RandomResize',
                scale=[(1400, 400), (1400, 1400)],
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5)
        ]),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=_base_.backend_args),
    dict(type='LoadProposals', num_max_proposals=None),
    dict(
        type='ProposalBroadcaster',
        transforms=[dict(type='Resize', scale=(1000, 800), keep_ratio=True)]),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    dataset=dict(
        pipeline=train_pipeline,
        proposal_file='proposals/rpn_r50_fpn_rbl-80k_coco_train2017.pkl'))
val_dataloader = dict(
    dataset=dict(
        pipeline=test_pipeline,
        proposal_file='proposals/rpn_r50_fpn_rbl-80k_coco_val2017.pkl'))
test_dataloader = val_dataloader
