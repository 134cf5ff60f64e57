-- Official population by new-scheme commune, sex and 5-year age band (reference/population.csv, loaded
-- by the warehouse build), as the statistics office writes it.
select commune_code, commune_name, sex, age_band, people
from {{ source('statistics', 'population') }}
