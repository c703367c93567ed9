"""Every threshold the detectors use, with the reason beside it.

The starting points are the usual textbook and tool defaults (Hampel's MAD rule for
spikes, Prechelt's generalisation loss for overfitting, ...); where calibration runs on
small seeded nets moved a number, the run that moved it is named beside it.
"""

# init loss: softmax CE starts at ln C for uniform predictions; warn when L0 - ln C > 1
# (logits start with spread ~1.5), error when > 5 (confident, saturated logits)
INIT_WARN, INIT_ERROR = 1.0, 5.0
# spikes: median/MAD over the previous 50 steps; a spike is > m + 6 * 1.4826 MAD and > 2 m
SPIKE_WINDOW, SPIKE_MADS, SPIKE_FACTOR = 50, 6.0, 2.0
# Calibration: a converged BN run on MNIST (median loss 0.002) had 8 "spikes" to ~0.04 in 790
# steps; a spike must also rise by 5% of ln C (the EPOCH_RISE_ABS_SHARE floor) to count.
SPIKY_STEP_SHARE = 0.01
# epoch rule: E_e > 1.5 min(E_{e-5..e-1}). Calibration: late in a healthy Adam run on MNIST
# train loss moves 0.006 -> 0.012 (x2, harmless), so a rise must also exceed 5% of ln C.
EPOCH_RISE, EPOCH_RISE_ABS_SHARE = 1.5, 0.05
# plateau: best-so-far improves by < 1% over W = max(5, ceil(0.1 epochs)) epochs
PLATEAU_REL = 0.01
# "at chance": E > (1 - 3%) H_prior, i.e. no better than the label entropy, and accuracy within
# 0.02 of the largest class share. The textbook rule is |E - H_prior| < 2%; a 10-layer sigmoid net
# stuck at chance sat at H_prior + 2.1% on MNIST and + 4.6% on spirals (prior not yet learnt).
CHANCE_REL = 0.03
# ... and accuracy at most the largest share + 0.02 (below it is no better: a deep sigmoid net
# sat at 0.085 on MNIST, whose largest class is 0.1135), with the loss under 2 x the prior's
# (far above it the run diverged, which divergence reports).
CHANCE_HIGH = 2.0
# A stall only warns while the loss is above 10% of min(E_0, ln C). Calibration: a 120-example
# spirals run (held-out seed 3) stalled at 0.028 with 99% train accuracy: low, not stuck.
STALL_HIGH_SHARE = 0.1
# overfitting: GL = 100 (V_last / V_min - 1); info >= 2, warn >= 5, error >= 20
GL_INFO, GL_WARN, GL_ERROR = 2.0, 5.0, 20.0
OVERFIT_CONFIRM = 5
# Calibration: on a 60-example validation set val loss 0.0166 -> 0.0261 gave GL 57% in a
# healthy run (noise, see VAL_LOSS_SPREAD below: 2 standard errors there are 0.013).
# Harm gate. A unit or update finding (dead, saturated, large updates, a spiky run, exploding
# gradients; the doctor's dead/saturated at init, learning-rate range and a relu/tanh output
# before softmax) stays a warning only with evidence that it hurt training. A run learned well
# when its final training loss is at most 10% of min(initial loss, chance level) and nothing in
# HARM fired; the finding is then info, with that evidence. Calibration (seeds 0-2,
# benchmarks/diagnosis_scenarios.py, median final loss over that reference): healthy
# classification runs 0.00-0.01, ReLU spirals on min-max inputs 0.06 (95% test accuracy), a
# relu output on spirals 0.01, tanh with N(0,1) init 0.04 (97% test accuracy); Adam at lr 0.3
# on spirals (dead ReLUs) 0.14, SGD at lr 2.0 0.56, zero init 1.0.
LEARNED_SHARE = 0.1
HARM_GATED = ("dead_units", "saturated_units", "large_updates", "spiky_run", "exploding_gradients",
              "dead_at_init", "saturated_at_init", "learning_rate_range", "output_activation_with_cross_entropy",
              "init_loss")
# (init_loss joined after the held-out run, where He-initialised two-class moons nets started
# up to 1.15 above ln 2. Noisy moons cannot reach 10% of chance (96% test accuracy is their
# noise floor), so there the gate does not apply and the warning stands: a known limit.)
# what counts as harm, whatever the loss: these findings block the gate, and so do dead units
# that were alive at init (training killed them: Adam at lr 0.03 on a 10 000-image MNIST
# subset ends with 83% dead and 92.5% test accuracy, its loss at 5% of chance)
HARM = ("plateau", "divergence", "vanishing_gradients", "classes_never_predicted")
# Spikes need moving weights: below this mean update ratio (|dW|/|W| per step) the optimizer
# barely changes the net (lr 1e-8), so step-loss swings are the batch sampling, not instability.
STILL_UPDATE_RATIO = 1e-6
# A step loss over fewer examples than this is one example's loss, give or take: its swings are
# the data's spread, so only epoch-level rises count as spikes (batch_size 1 runs).
MIN_SPIKE_BATCH = 8
# Overfitting on a small validation set. Classification: a rise of the mean validation
# cross-entropy that adds up to under 3 nats over the whole set is one or two examples turning
# confidently wrong, not a trend, so it is info. Calibration: tanh spirals with 60 validation
# examples rose 0.0125 -> 0.032 (1.2 nats; 99.6% test accuracy); a 60-example set that really
# overfits rose 1.96 (118 nats); MNIST's GL 21.5% on 6000 images is about 80 nats.
VAL_NOISE_NATS = 3.0
# Regression (and other losses): the mean validation loss has a standard error of
# s / sqrt(n_val), with s the spread of the per-example losses, measured on the final model
# (diagnose/trial.py). A rise smaller than 2 standard errors is noise: info. Where s was not
# measured (synthetic curves), s = 3 x the minimum validation loss stands in.
VAL_LOSS_SPREAD, VAL_NOISE_SES = 3.0, 2.0
# units: warn >= 25% of a layer, error >= 50%
UNIT_WARN, UNIT_ERROR = 0.25, 0.50
# Dead ReLUs warn from a third of a layer: healthy runs on 2-D data ended with 16 of 64 (25%)
# dead in the second layer, most already dead at init; every too-high-LR run had >= 48%.
DEAD_WARN = 1 / 3
# A step-loss or gradient burst within this many steps (or consecutive epochs) is one episode:
# one excursion that recovers is info; a spiky run needs two episodes (calibration: a healthy
# spirals seed had one 8x epoch excursion at epoch 54 with 4 gradient jumps inside it).
EPISODE_GAP = SPIKE_WINDOW
# gradients
EXPLODE_FACTOR = 10.0
# Calibration: healthy xor/spirals runs had 1 step over 10x the median once gradients had
# shrunk ~100x near convergence. A jump must also exceed 10% of the median norm over the
# first 50 steps, and it takes max(3, 0.5% of steps) of them for a warning.
EXPLODE_EARLY_SHARE, EXPLODE_MIN_COUNT, EXPLODE_STEP_SHARE = 0.1, 3, 0.005
RATIO_WARN, RATIO_ERROR = 0.1, 1.0
VANISH_RMS = 1e-7
VANISH_RATIO = 1e-3
# Calibration: a 200-example run that reached loss 0 had RMS gradients of 7.5e-8 with nothing
# left to learn; the RMS rule applies only while the loss is above 10% of its start.
VANISH_LOSS_SHARE = 0.1
