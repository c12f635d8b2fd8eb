# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
# Paths are relative to this notebook's folder; the runner passes absolute ones.
sla_path = "../data/sample/sla.yaml"
source_path = "../data/sample/source.yaml"
as_of = ""  # YYYY-MM-DD; empty means the latest date in the data
cycle_id = ""  # empty means the as-of date
output_dir = ""  # folder for results.json, next_sla.yaml, quarantine.csv; empty means none
fit_models = True
snapshot = ""  # set by `sla-toolkit run`: the run's computed result; empty means compute from the above
past_cycles_json = ""  # set by `sla-toolkit run`: past cycles from the history ledger

# %%
from IPython.display import HTML, display

from sla_toolkit.history.trend import since_last_cycle_of
from sla_toolkit.report import figures, layout, sections
from sla_toolkit.snapshot import cycle_for_notebook

result = cycle_for_notebook(snapshot, sla_path, source_path, as_of=as_of or None, cycle_id=cycle_id or None,
                            with_models=fit_models, output_dir=output_dir)
display(HTML(sections.header(result)))
display(HTML(sections.headline(result)))

# %% [markdown]
# ## Executive summary
# Each SLA target with its status, the estimate, its interval and the number of leads behind it.

# %%
display(HTML(layout.summary(result)))

# %% [markdown]
# ## Since last cycle
# Each SLA check over the past cycles, whether last cycle's proposal was adopted, and whether what it adjusted moved.

# %%
since = since_last_cycle_of(result, past_cycles_json)
display(since)
figures.show(since.plot_trend())

# %% [markdown]
# ## Pacing to the deadline

# %%
display(HTML(layout.pacing(result)))

# %% [markdown]
# ## Funnel
# Counts and conversion per stage; the conversion table separates the naive rate from the censoring-aware ones.

# %%
display(HTML(layout.funnel(result)))

# %% [markdown]
# ## Time to convert

# %%
display(HTML(layout.time_to_convert(result)))

# %% [markdown]
# ## Follow-up SLA

# %%
display(HTML(sections.follow_up_block(result)))

# %% [markdown]
# ## Breakdowns by channel and segment

# %%
display(HTML(layout.breakdowns(result)))

# %% [markdown]
# ## Conversion models

# %%
display(HTML(layout.models(result)))

# %% [markdown]
# ## Spend

# %%
display(HTML(layout.spend(result)))

# %% [markdown]
# ## Experiments
# Each declared test's arms against its control. Only a randomized test whose arm sizes match the plan may say an arm *caused* a lift.

# %%
display(result.experiments)

# %% [markdown]
# ## All findings

# %%
display(HTML(sections.all_findings(result)))

# %% [markdown]
# ## Next-cycle proposal
# A new `sla.yaml` for the next cycle; every change has a finding behind it.

# %%
display(result.proposal)

# %% [markdown]
# ## Data quality

# %%
display(HTML(layout.quality(result)))

# %% [markdown]
# ## Methods

# %%
display(HTML(layout.methods(result)))
