from ninja import Router

router = Router(tags=["approvals: BSC PAB papers, packs and letters"])
