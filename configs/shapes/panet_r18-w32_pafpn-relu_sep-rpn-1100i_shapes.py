# The full PANet shapes config (the main job's model, on the 1100-iteration
# SGD schedule) as the paper trained it: on the fixed proposals of the
# separately trained RPN (rpn_r18-w32_fpn_1100i_shapes, written by
# tools/misc/dump_proposals.py) instead of a jointly trained RPN head.
_base_ = './panet_r18-w32_pafpn-relu_1100i_shapes.py'

model = dict(
    rpn_head=None,
    train_cfg=dict(_delete_=True, rcnn=_base_.model.train_cfg.rcnn),
    test_cfg=dict(_delete_=True, rcnn=_base_.model.test_cfg.rcnn))
# proposals are loaded before the resize and flip, which move them as the
# boxes (ProposalBroadcaster)
train_pipeline = _base_.train_pipeline
train_pipeline[2:4] = [
    dict(type='LoadProposals', num_max_proposals=None),
    dict(type='ProposalBroadcaster', transforms=train_pipeline[2:4])
]
test_pipeline = _base_.test_pipeline
test_pipeline[1:2] = [
    dict(type='LoadProposals', num_max_proposals=None),
    dict(type='ProposalBroadcaster', transforms=test_pipeline[1:2])
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
