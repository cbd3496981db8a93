"""Fidelity of a lossy reconstruction, judged by what neuroscientists use the data for.

:func:`compare` gives, for an original and a reconstruction of shape (T,) or (T, C):

- ``max_abs_error_codes``, ``rmse_codes`` (and ``rmse_uv`` given ``uv_per_code``): errors in ADC
  codes (level indices of the 10-bit ladder when the original lies on it, else sample units);
- ``snr_db`` broadband, ``snr_spike_band_db`` (300-6000 Hz), ``snr_lfp_band_db`` (< 300 Hz);
- spike detection agreement: the same detector (:mod:`neurocodec.hybrid.detect`) on both, with the
  noise level and threshold taken from the original, matched within +-0.4 ms: ``precision``,
  ``recall``, ``f1``;
- at matched spikes, band-passed snippets (1 ms before the trough, 1.5 ms after):
  ``spike_snr_db`` (pooled signal / error energy) and ``spike_correlation`` (mean Pearson r).

:func:`ground_truth_accuracy` scores detection against ground-truth units with SpikeInterface
(optional extra ``spikeinterface``).
"""

from .metrics import compare, detection_agreement, ground_truth_accuracy

__all__ = ["compare", "detection_agreement", "ground_truth_accuracy"]
