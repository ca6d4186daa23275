# Fixed proposals (the paper's protocol, spec section 4): the detector trains
# and tests on the proposals of a separately trained RPN (./rpn_only.py,
# written by tools/misc/dump_proposals.py) instead of a jointly trained RPN
# head. A config lists this file after its row and applies it with
#     model = _base_.fixed_proposals_model
# and writes its pipelines whole, with LoadProposals before the resize and
# flip, which ProposalBroadcaster applies to the proposals as to the boxes,
# and each dataset's proposal_file (mmpanet.utils.proposals.proposal_file).
fixed_proposals_model = dict(
    rpn_head=None,
    train_cfg=dict(rpn=None, rpn_proposal=None),
    test_cfg=dict(rpn=None))
