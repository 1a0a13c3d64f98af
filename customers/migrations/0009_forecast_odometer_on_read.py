"""The forecast stores the odometer on the day it was estimated from (the latest usable reading),
not today's: the odometer today is computed on read, so an unchanged forecast is not rewritten daily."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_customer_temperature")]

    operations = [
        migrations.RenameField("vehicleforecast", "odometer_today_km", "odometer_km"),
        migrations.AlterField(
            "vehicleforecast", "odometer_km", models.PositiveIntegerField(verbose_name="estimated odometer, km")
        ),
        migrations.AddField(
            "vehicleforecast", "odometer_on", models.DateField(null=True, verbose_name="odometer estimated on")
        ),
        # Existing rows: their odometer was estimated for the day they were computed on.
        migrations.RunSQL(
            "UPDATE customers_vehicleforecast SET odometer_on = computed_on", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.AlterField(
            "vehicleforecast", "odometer_on", models.DateField(verbose_name="odometer estimated on")
        ),
    ]
