"""The results tables' schema, declared once: `evaluate` writes it, the dashboard,
the cards and the demo read it. No torch here, so readers import it cheaply."""

GRAY, GROUND_TRUTH = "gray", "ground-truth"
REFERENCE_ROWS = (GRAY, GROUND_TRUTH)
EVAL_SIZE = 256
# The evaluation sets under results/, in the order they are shown (the primary set first).
EVAL_SETS = {"val-broad": "photos from sources that are in no training shard (the primary set)",
             "val": "in-domain photos, drawn from the training sources of version 1"}
# The judge's name is in the columns: scores by another network are not comparable.
SEMANTIC_COLUMN = "semantic_lite1"
FRECHET_COLUMN = "frechet_lite1"
# The per-image scores of an output against its ground truth (metrics.score_images).
PIXEL_METRICS = ("psnr", "ssim", "auc", "auc_rebal", "colorfulness")
METRIC_COLUMNS = ["model", "weights", "kind", "net_size", *PIXEL_METRICS, "delta_cf", SEMANTIC_COLUMN,
                  FRECHET_COLUMN, "seconds_per_image", "images"]
PER_IMAGE_COLUMNS = ["image", "model", *PIXEL_METRICS, "top1_class", "top1_agrees"]
# A training log (train_log.csv): these bookkeeping columns, then the objective's loss
# terms, then the scores of the periodic check on a fixed slice of the validation set.
LOG_META = ("step", "epoch", "lr", "images_per_s", "wall_s")
VAL_FIELDS = ("val_psnr", "val_colorfulness", "val_auc")
# Which way is better, per metric column.
HIGHER_BETTER = ("psnr", "ssim", "auc", "auc_rebal", SEMANTIC_COLUMN)
LOWER_BETTER = ("delta_cf", FRECHET_COLUMN, "seconds_per_image")
