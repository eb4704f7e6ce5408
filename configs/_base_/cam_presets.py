# CAM presets that name no layer, shared by the classifier model bases (which add their layer-specific ones).
# Each is the classifier head's RA-CAM settings with one change, or a baseline with an option: pick one by name
# (tools/analysis_tools/eval_cams.py --methods racam racam_nofilter ..., cam.method in a pipeline config).
cam_presets = dict(
    scorecam=dict(max_channels=32),
    racam_nofilter=dict(method='racam', q=None, guided=False),  # no FGBP: LayerCAM maps, same fusion
    racam_fgbp_all=dict(method='racam', filter_deepest=True),  # the prior's map filtered too
    racam_q80=dict(method='racam', q=0.8),
    racam_prior=dict(method='racam', gamma=0.5),  # shallow detail confined to the deep map's salient region
    racam_extent=dict(method='racam', extent_scale=0.1),  # detail only for small regions (earlier design)
    racam_ms=dict(method='racam', scales=[1.0, 1.5], flip=True),  # multi-scale + flip inference (MultiScaleCAM)
    racam_norefine=dict(method='racam', refine=None),  # no image-adaptive refinement
    racam_refined_labels=dict(method='racam', refine=dict()),  # pseudo-labels from the refined map alone
    # refinement variants (PixelAdaptiveRefinement options), and a baseline with the same refinement
    racam_par_s=dict(method='racam', refine=dict(dilations=[1, 2, 4], num_iter=5)),  # short range
    racam_par_m=dict(method='racam', refine=dict(dilations=[1, 2, 4, 8], num_iter=10)),  # medium range
    racam_par_ea=dict(method='racam', refine=dict(combine='extent')),  # blended by region extent
    racam_par_max=dict(method='racam', refine=dict(combine='max')),  # raw peaks kept
    racam_par_gm=dict(method='racam', refine=dict(combine='geomean')),  # raw and refined must agree
    # raw or refined per image and class, chosen by erasing each region (classifier consistency)
    racam_erasure=dict(method='racam', refine=dict(combine='erasure')),
    racam_erasure_ev=dict(method='racam', refine=dict(combine='erasure', erasure_rule='evidence')),
    gradcam_par=dict(method='gradcam', refine=dict()),
)
